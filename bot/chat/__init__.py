"""Chat commands: answer readers and the operator in Telegram while the service runs."""
