"""The tenant's channel accounts (WhatsApp numbers, Instagram/Messenger pages) as staff see them."""
