# Relay.Mesos as a container: compile one executable in a Deno image, run it from a small base
# as a non-root user. `deno compile` fetches Deno's runtime once, so the build needs internet.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY main.ts ./
COPY lib ./lib
RUN deno compile --allow-net --allow-run --allow-env --allow-read --allow-write \
    --output /out/relay.mesos main.ts

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --create-home relay
COPY --from=build /out/relay.mesos /usr/local/bin/relay.mesos
USER relay
WORKDIR /home/relay
ENTRYPOINT ["relay.mesos"]
CMD ["--help"]
