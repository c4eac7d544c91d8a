# syntax=docker/dockerfile:1
# The kubeshark image for registries: one image for the three in-cluster roles
# (`kubeshark hub|front|worker …`; the manifests pass the role as args to the ENTRYPOINT),
# holding the single executable, Debian's tcpdump (which drops privileges to its `tcpdump`
# user) and CA certificates. scripts/build-image.sh builds the same image offline, without a
# Docker engine (mmdebstrap + buildah).
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) -t <registry>/kubeshark:0.1.0 .
#
# The executable is a Node single executable application: it is built for the platform it is
# built on, so each target platform runs its own build stage (QEMU for the foreign one).

FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit
COPY . .
ARG REVISION=unknown
RUN KUBESHARK_COMMIT="$(printf '%.7s' "$REVISION")" npm run build \
  && ./dist/kubeshark version

FROM debian:bookworm-slim
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tcpdump ca-certificates \
  && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
  && getent passwd tcpdump >/dev/null
COPY --from=build /src/dist/kubeshark /usr/local/bin/kubeshark
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=
LABEL org.opencontainers.image.title="kubeshark" \
  org.opencontainers.image.description="Wireshark for Kubernetes: worker, hub and front in one executable (kubeshark hub|front|worker)" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.created="${CREATED}" \
  org.opencontainers.image.source="https://github.com/kubeshark-ts/kubeshark" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.base.name="debian:bookworm-slim"
ENTRYPOINT ["/usr/local/bin/kubeshark"]
