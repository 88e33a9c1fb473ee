"""CareBridge worker: arq jobs that run outside the request cycle."""
