"""Signing key rotation without downtime."""
import jwt
import requests


def _kids(live):
    return {k["kid"]: k for k in requests.get(live.url + "/jwks.json").json()["keys"]}


def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_published_next_key(live, rp, user, browser, runner):
    before = rp.tokens_for(browser, user)
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
    published_before = _kids(live)
    next_kids = {kid for kid, k in published_before.items() if k["alg"] == "ES256"} - {old_kid}

    result = runner.invoke(args=["keys", "rotate", "--alg", "ES256"])
    assert result.exit_code == 0, result.output

    after = rp.tokens_for(browser, user)
    new_kid = jwt.get_unverified_header(after["access_token"])["kid"]
    assert new_kid != old_kid
    assert new_kid in next_kids, "the key that now signs was published before the rotation"
    published = _kids(live)
    assert old_kid in published, "the retired key stays published while its tokens live"
    rp.verify(before["access_token"], audience=rp.client.resources[0])
    rp.verify(after["access_token"], audience=rp.client.resources[0])


def test_private_keys_are_encrypted_at_rest(live):
    with live.app.app_context():
        from sqlalchemy import select

        from idp.extensions import db
        from idp.signing.models import SigningKey

        for row in db.session.scalars(select(SigningKey)):
            assert row.encrypted_private_key[:1] == b"\x01"
            assert b"PRIVATE KEY" not in row.encrypted_private_key
