# The StreamBus broker image: the single executable on Debian 12, run as an unprivileged user, with its
# data in the /data/streambus volume and its configuration in /etc/streambus/broker.yaml (overridable
# by STREAMBUS_* environment variables).
#
# The executable is built before the image, on the build machine, and copied from the build context:
#   npm ci && npm run build:binary        # dist/streambus, the native addon embedded
#   docker build -t streambus:latest .    # podman: podman build --format docker -t streambus:latest .
# A multi-stage build would need a Node.js/Bun image from a registry; building outside keeps the image
# to what runs and makes it the same bytes the release tarball ships. The binary links only glibc and
# libstdc++ (the addon), which this base image has; build it on Debian 12 or older so the glibc matches.
FROM debian:bookworm-slim

# A fixed uid and gid, so a mounted host folder can be given to them (chown 10001:10001).
RUN groupadd --system --gid 10001 streambus \
 && useradd --system --uid 10001 --gid streambus --home-dir /data/streambus --no-create-home \
      --shell /usr/sbin/nologin streambus \
 && mkdir -p /data/streambus /etc/streambus \
 && chown streambus:streambus /data/streambus

COPY dist/streambus /usr/local/bin/streambus
# The deployment guide's command names answer from the same binary.
RUN ln -s streambus /usr/local/bin/streambus-broker \
 && ln -s streambus /usr/local/bin/streambus-cli
COPY deploy/container/broker.yaml /etc/streambus/broker.yaml

# Keep freed memory in the allocator instead of faulting it in again batch after batch: about twice
# the replicated throughput for about twice the resident memory (docs/operations.md, "Memory allocator").
ENV MIMALLOC_PURGE_DELAY=-1
USER streambus
WORKDIR /data/streambus
VOLUME /data/streambus
# Kafka protocol, broker-to-broker, HTTP (health, metrics, admin).
EXPOSE 9092 9093 8081

# The binary probes its own liveness endpoint, at the port and path its settings give.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["streambus", "health", "--config", "/etc/streambus/broker.yaml"]

# The broker stops cleanly on SIGTERM (docker stop), handing its leaderships over first in a cluster.
ENTRYPOINT ["streambus"]
CMD ["broker", "--config", "/etc/streambus/broker.yaml"]
