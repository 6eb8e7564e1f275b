"""Discovery and JWKS: complete and truthful."""
import requests
from authlib.oidc.discovery import OpenIDProviderMetadata


def test_openid_configuration_is_valid_and_complete(live):
    metadata = requests.get(live.url + "/.well-known/openid-configuration").json()
    OpenIDProviderMetadata(metadata).validate()
    assert metadata["issuer"] == live.url
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert set(metadata["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials",
                                                      "urn:ietf:params:oauth:grant-type:token-exchange"}
    assert "implicit" not in metadata["grant_types_supported"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "private_key_jwt"}
    assert metadata["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]


def test_rfc8414_metadata_is_the_same_document(live):
    oidc = requests.get(live.url + "/.well-known/openid-configuration").json()
    oauth = requests.get(live.url + "/.well-known/oauth-authorization-server").json()
    assert oauth == oidc


def test_every_advertised_endpoint_answers(live):
    metadata = requests.get(live.url + "/.well-known/openid-configuration").json()
    for name in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        answer = requests.post(metadata[name], data={})
        assert answer.status_code in (400, 401), name
        assert "error" in answer.json(), name
    assert requests.get(metadata["userinfo_endpoint"]).status_code == 401
    assert requests.get(metadata["jwks_uri"]).status_code == 200
    assert requests.get(metadata["authorization_endpoint"]).status_code == 400
    assert requests.get(metadata["end_session_endpoint"]).status_code == 200


def test_jwks_publishes_public_keys_only(live):
    keys = requests.get(live.url + "/jwks.json").json()["keys"]
    assert {k["alg"] for k in keys} == {"ES256", "RS256"}
    for key in keys:
        assert key["use"] == "sig" and key["kid"]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), "private material published"
