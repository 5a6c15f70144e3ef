FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p byraad

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends poppler-utils ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/byraad /usr/local/bin/byraad
COPY config /etc/byraad
EXPOSE 8080
ENTRYPOINT []
