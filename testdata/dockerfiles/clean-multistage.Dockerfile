# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
# A comment between instructions, and a continuation with a comment in it.
RUN CGO_ENABLED=0 go build \
    # no debug info
    -ldflags="-s -w" -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12:nonroot@sha256:1111111111111111111111111111111111111111111111111111111111111111
ENV GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4 \
    APP_PORT=8080
ARG POSTGRES_PASSWORD_FILE=/run/secrets/db
COPY --from=build --chmod=0755 /out/app /app
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s CMD ["/app", "health"]
ENTRYPOINT ["/app"]
