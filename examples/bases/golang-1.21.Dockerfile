# golang:1.21, made by mason from debian:bookworm and Debian's packages
# (Go 1.21 from bookworm-backports): the construction site of the Go
# example. Built by scripts/quickstart.sh; DEBIAN_MIRROR is the mirror the
# host's apt uses.
FROM debian:bookworm
ARG DEBIAN_MIRROR=http://deb.debian.org/debian
RUN echo "deb $DEBIAN_MIRROR bookworm-backports main" >/etc/apt/sources.list.d/backports.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends -t bookworm-backports golang-1.21-go \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
ENV GOLANG_VERSION=1.21 GOPATH=/go GOTOOLCHAIN=local
ENV PATH=/go/bin:/usr/lib/go-1.21/bin:$PATH
RUN mkdir -p "$GOPATH/src" "$GOPATH/bin" && go version
WORKDIR /go
