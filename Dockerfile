# The service as `make dist` builds it: the binary without debug sections, the e5 model, the
# configuration and the bundled corpus, in /opt/byraad. Data lives in the /opt/byraad/data volume.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv binutils && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make dist

FROM debian:bookworm-slim
# pdftotext for PDFs, tesseract (Danish) for scanned pages, CA certificates for sync and hosted services.
RUN apt-get update && apt-get install -y --no-install-recommends poppler-utils tesseract-ocr tesseract-ocr-dan ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/dist/byraad /opt/byraad
WORKDIR /opt/byraad
ENV PATH=/opt/byraad:$PATH
VOLUME /opt/byraad/data
EXPOSE 8080
ENTRYPOINT []
