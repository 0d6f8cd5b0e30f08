# Relay.Mesos as a container: compile one executable in a Deno image, run it from a small base
# as a non-root user. `deno compile` fetches Deno's runtime (denort) and the npm packages once, so
# the build needs internet; the image it makes does not.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY main.ts ./
COPY lib ./lib
# The same permissions as `deno task compile` (see "Permissions" in the README).
RUN deno compile --allow-net --allow-run --allow-env --allow-read --allow-write \
    --output /out/relay.mesos main.ts

FROM debian:bookworm-slim
# The state directory (the FrameworkID, so a restarted container adopts its tasks) belongs to the
# relay user alone (0700: relay.mesos refuses a state dir others may write to); mount a volume
# there to keep it across containers.
RUN useradd --system --uid 10001 --create-home relay \
    && mkdir -p /var/lib/relay.mesos \
    && chown relay:relay /var/lib/relay.mesos \
    && chmod 0700 /var/lib/relay.mesos
COPY --from=build /out/relay.mesos /usr/local/bin/relay.mesos
USER relay
WORKDIR /home/relay
ENV RELAY_STATE_DIR=/var/lib/relay.mesos
ENTRYPOINT ["relay.mesos"]
CMD ["--help"]
