"""The staff side of a conversation: pause/resume, human replies, handoff notifications, transcripts."""
