# escape=`
ARG BASE=debian
FROM ${BASE} AS build
RUN wget -qO- https://example.com/get `
      | sh
FROM build AS test
RUN echo ok

FROM alpine AS final
COPY --from=build --chmod=4755 /out/tool /usr/local/bin/tool
ENV AWS_KEY=AKIAIOSFODNN7EXAMPLE
LABEL run="docker run --privileged -v /var/run/docker.sock:/var/run/docker.sock IMAGE"
RUN modprobe overlay
HEALTHCHECK NONE
USER 0:0
