"""Text analysis: topics and entity tags, and the summary a post shows."""
