"""Selling in the chat: a cart per conversation, checkout links (Tienda Nube draft orders),
coupons within the owner's policy, and revenue attribution of the orders that follow."""
