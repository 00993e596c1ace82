# syntax=docker/dockerfile:1.4
FROM debian:12-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000
RUN <<EOF
set -eu
apt-get update
apt-get install -y --no-install-recommends ca-certificates
curl https://example.com/x.sh | sh
EOF
COPY <<-CONF /etc/app.conf
	USER root
	ADD http://not-an-instruction/
	CONF
RUN <<PY
#!/usr/bin/env python3
print("apt-get update")
PY
USER app
HEALTHCHECK CMD ["/bin/true"]
