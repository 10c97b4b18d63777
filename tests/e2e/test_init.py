"""cog init writes today's templates and never overwrites what is there."""
import subprocess



def test_init_writes_templates_that_cog_accepts(cog_bin, tmp_path):
    result = subprocess.run([str(cog_bin), "init"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in ["cog.yaml", "run.py", "requirements.txt", ".dockerignore", ".github/workflows/push.yaml"]:
        assert (tmp_path / name).is_file(), name
        assert f"Creating {name}" in result.stderr
    assert 'run: "run.py:Runner"' in (tmp_path / "cog.yaml").read_text()
    assert "class Runner(BaseRunner)" in (tmp_path / "run.py").read_text()
    assert "**/.git" in (tmp_path / ".dockerignore").read_text()
    # The template is a valid project: cog debug loads it and renders a Dockerfile.
    debug = subprocess.run([str(cog_bin), "debug"], cwd=tmp_path, capture_output=True, text=True)
    assert debug.returncode == 0, debug.stderr
    assert "COG_PREDICT_TYPE_STUB" in debug.stdout


def test_init_skips_existing_files(cog_bin, tmp_path):
    (tmp_path / "run.py").write_text("mine\n")
    result = subprocess.run([str(cog_bin), "init"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Skipped existing run.py" in result.stderr
    assert (tmp_path / "run.py").read_text() == "mine\n"
    assert "Creating cog.yaml" in result.stderr
