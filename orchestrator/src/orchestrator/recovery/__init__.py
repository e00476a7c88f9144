"""Abandoned-checkout recovery. Tienda Nube has no webhook for abandoned checkouts, so each store
with recovery switched on is polled (`poller`), within its rate limit (tiendanube_service paces
every call through the store's bucket), looking back 6 hours past the last poll because
checkouts appear up to 6 hours late. After the owner's delay, `sender` sends one recovery
template with the checkout's URL: never when the customer ordered since, has not opted in to
marketing (or opted out), or got a recovery within the cooldown; at most one per checkout, even
across crashes (the checkout row moves out of `pending` in the transaction that writes the
message and its ledger row, and the ledger key `checkout:<id>` is unique)."""
