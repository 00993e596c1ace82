# A Dockerfile with most of the classic problems.
FROM ubuntu:latest
LABEL maintainer="x@example.com"
ENV DB_PASSWORD=hunter2
ARG GITHUB_TOKEN
ADD app.tar.gz /opt/app/
ADD https://example.com/install.sh /tmp/install.sh
RUN apt-get update
RUN apt-get install -y curl
RUN curl -fsSL https://example.com/setup.sh | bash -
RUN chmod 777 /opt/app && \
    chmod u+s /usr/bin/tool
RUN sudo make install
EXPOSE 22 8080
CMD ["/opt/app/run"]
