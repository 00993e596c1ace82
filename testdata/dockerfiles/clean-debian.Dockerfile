FROM debian:12.5
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && curl -fsSLo /tmp/tool.tgz https://example.com/tool.tgz \
 && echo "0123456789abcdef  /tmp/tool.tgz" | sha256sum -c - \
 && tar -C /usr/local -xzf /tmp/tool.tgz \
 && rm -rf /var/lib/apt/lists/* /tmp/tool.tgz \
 && useradd -r -u 10001 app
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/data.bin /data.bin
COPY entrypoint.sh /entrypoint.sh
USER app
HEALTHCHECK CMD curl -fs http://127.0.0.1:8080/ || exit 1
CMD ["/entrypoint.sh"]
