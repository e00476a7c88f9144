"""Conversations: pause, resume, human replies, hand-off and transcript e-mails, queueing an
outbound message for the sender, and the dashboard event shapes. Used by the pipeline and the
staff endpoints alike."""
