"""The I/O shell: Kafka, files, encoding. The only place that talks to the outside."""
