# node:18 and node:18-slim, made by mason from debian:bookworm and Debian's
# packages (Node.js 18): `--target full` has npm (the construction site),
# `--target slim` only the runtime (the house).
#
# Where outbound https goes through an intercepting proxy (test-world.md),
# give its CA bundle as a build secret: --secret id=cacert,src=FILE. npm in
# node:18 then trusts it (the secret itself never enters a layer; the
# bundle is copied to /etc/ssl/certs/mason-extra-ca.pem on purpose).
FROM debian:bookworm AS slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/* \
 && node --version
CMD ["node"]

FROM slim AS full
RUN --mount=type=secret,id=cacert,target=/run/secrets/cacert \
    apt-get update \
 && apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/* \
 && if [ -s /run/secrets/cacert ]; then \
      cp /run/secrets/cacert /etc/ssl/certs/mason-extra-ca.pem \
      && npm config set cafile /etc/ssl/certs/mason-extra-ca.pem --location=global; \
    fi \
 && npm --version
