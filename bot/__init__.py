"""The presswatch application: config, pipeline, Telegram, scheduler and CLI."""
