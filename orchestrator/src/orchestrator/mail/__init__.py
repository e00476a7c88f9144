"""Outgoing e-mail (SMTP_URL through aiosmtplib): the one client module for SMTP."""
