"""The `idp` administration command, scriptable with --json."""
import json


def test_init_is_safe_twice(runner):
    for _ in range(2):
        result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert "schema up to date" in result.output


def test_clients_create_list_delete(runner):
    created = runner.invoke(args=[
        "clients", "create", "--name", "Bibliordre", "--redirect-uri", "https://bibliordre.example/cb",
        "--redirect-uri", "https://bibliordre.example/cb2", "--post-logout-redirect-uri", "https://bibliordre.example/",
        "--grant-type", "authorization_code", "--grant-type", "refresh_token", "--scope", "openid email",
        "--resource", "https://bibliordre.example", "--auth-method", "client_secret_post", "--first-party", "--json"])
    assert created.exit_code == 0, created.output
    data = json.loads(created.output)
    assert data["client_id"] and len(data["client_secret"]) >= 32
    listed = json.loads(runner.invoke(args=["clients", "list", "--json"]).output)
    mine = [c for c in listed if c["client_id"] == data["client_id"]][0]
    assert mine["redirect_uris"] == ["https://bibliordre.example/cb", "https://bibliordre.example/cb2"]
    assert mine["first_party"] is True and mine["auth_method"] == "client_secret_post"
    assert runner.invoke(args=["clients", "delete", data["client_id"]]).exit_code == 0
    assert runner.invoke(args=["clients", "delete", data["client_id"]]).exit_code == 1


def test_clients_create_refuses_bad_input_and_writes_nothing(runner):
    result = runner.invoke(args=["clients", "create", "--name", "X", "--redirect-uri", "http://evil.example/cb"])
    assert result.exit_code == 1 and "https is required" in result.output
    result = runner.invoke(args=["clients", "create", "--name", "X", "--redirect-uri", "https://x.example/cb",
                                 "--scope", "openid root"])
    assert result.exit_code == 1 and "unknown scopes: root" in result.output
    assert json.loads(runner.invoke(args=["clients", "list", "--json"]).output) == []


def test_users_create(runner):
    result = runner.invoke(args=["users", "create", "--email", "Cyrille.Bellanger@Cabinet.example", "--password",
                                 "a long enough password", "--given-name", "Cyrille", "--family-name", "Bellanger",
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["email"] == "cyrille.bellanger@cabinet.example" and data["identifiant"].startswith("bel")
    again = runner.invoke(args=["users", "create", "--email", "cyrille.bellanger@cabinet.example", "--password",
                                "a long enough password", "--given-name", "C", "--family-name", "B"])
    assert again.exit_code == 1 and "existe déjà" in again.output


def test_keys_list_shows_next_and_current(runner):
    rows = json.loads(runner.invoke(args=["keys", "list", "--json"]).output)
    states = {(r["alg"], r["state"]) for r in rows}
    assert {("ES256", "current"), ("ES256", "next"), ("RS256", "current"), ("RS256", "next")} <= states


def test_demo_fills_an_empty_database_once(runner):
    first = runner.invoke(args=["demo", "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert {u["role"] for u in data["users"]} == {"expert", "collaborator"}
    assert {c["client_id"] for c in data["clients"]} == {"site-ordre", "jesignexpert"}
    assert runner.invoke(args=["demo"]).exit_code == 1
    assert runner.invoke(args=["demo", "--if-empty"]).exit_code == 0


def test_demo_expert_is_verified_with_two_firms(runner, app):
    runner.invoke(args=["demo"])
    with app.app_context():
        from idp.accounts.services import find_user
        from idp.firms.services import firms_of

        expert = find_user("philippe.durant@sogetes.example")
        assert expert.is_expert
        assert [f.raison_sociale for f in firms_of(expert)] == ["DURANT & ASSOCIÉS", "SOGETES"]
