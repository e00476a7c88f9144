"""WhatsApp message templates of a tenant's WABA: read from the Graph API (through
whatsapp_service), kept fresh by the template webhooks, chosen by name and language.

Other domains use `service.get_approved(session, tenant_id, name, language)` and
`service.build_components(template, variables)`.
"""
