"""Rights in the tokens: what a person may do, firm by firm, at the audience of a token.

``claims`` turns the rights a user holds (``idp.delegations.services.active_rights_for``)
into RFC 9396 ``authorization_details`` (one object per site and set of
actions, listing the firms), plain data and no Flask;
``services`` loads them for a user and fits them into tokens, ID tokens,
userinfo and introspection; ``exchange`` is RFC 8693 token exchange. The
format is specified in ``docs/claims.md`` (JSON Schema: ``docs/claims.schema.json``).
"""
