"""Every model change has its migration: the migrated schema equals the models."""


def test_migrations_match_the_models(runner):
    result = runner.invoke(args=["db", "check"])
    # Alembic's check exits non-zero when autogenerate would find anything to do.
    assert result.exit_code == 0, result.output
