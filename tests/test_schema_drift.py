"""Every model change has its migration: the migrated schema equals the models."""


def test_migrations_match_the_models(runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert "No new upgrade operations detected" in result.output
