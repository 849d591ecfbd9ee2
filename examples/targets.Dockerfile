# The seed's "multiple named stages" pattern: --target development|production.
FROM debian:bookworm AS base
RUN apt-get update

FROM base AS development
RUN apt-get install -y --no-install-recommends gcc make

FROM base AS production
RUN apt-get install -y --no-install-recommends ca-certificates
