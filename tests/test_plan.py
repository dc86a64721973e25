"""`reproduce --plan`: sizes before compute, and the refusals of runs that cannot fit or would cost
far beyond the preset (issues 29 and 33)."""

from drpose3d.command import plan as planning
from drpose3d.command.cli import main
from drpose3d.run import resolve
from drpose3d.stages.identity import Stage


def test_the_plan_prints_every_stage_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", "--preset", "tiny", "--device", "cpu", "--plan", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # 5 training and 2 test subjects x 12 actions x 3 frames (1 s at 50 fps, every 20th) x 4 cameras
    assert "720 training and 288 test samples" in printed
    for stage in (Stage.IMAGES, Stage.POSE2D, Stage.PRCNN, Stage.DPNET):
        assert f"\n{stage.value} " in printed, stage
    assert not out.exists()


def test_the_paper_preset_is_sized_from_its_world_and_refused_where_it_cannot_fit(tmp_path, monkeypatch, capsys):
    run = resolve("paper", "synthetic", 0, "cpu", str(tmp_path / "out"))
    plan = planning.make_plan(run)
    stages = {s.stage: s for s in plan.stages}
    images = stages[Stage.IMAGES]
    assert plan.train + plan.test == images.samples > 600_000  # the paper preset's world
    # crops are rendered on demand: what is held is a few hundred bytes a sample, not 3 x 256 x 256
    assert images.held_bytes < 1000 * images.samples < images.samples * 3 * 256 * 256 // 100
    assert stages[Stage.POSE2D].steps == -(-plan.train // 16) * 40  # ceil(train / batch 16) x 40 epochs
    assert plan.peak_bytes < 4 * 10**9  # the whole plan fits a 4 GB machine's data
    monkeypatch.setattr(planning, "available_bytes", lambda: 10**9)  # a machine with 1 GB free
    assert main(["reproduce", "--preset", "paper", "--device", "cpu", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--preset paper cannot fit: stage PRCNN holds" in err and "has 1.0 GB" in err and err.count("\n") == 0
    assert not (tmp_path / "out").exists()


def test_a_plan_on_several_processes_counts_each_ranks_copy(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", "--preset", "tiny", "--device", "cpu", "--plan", "--nproc", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "  cpu x 2\n" in printed and "per process, 2 processes" in printed
    one = planning.make_plan(resolve("tiny", "synthetic", 0, "cpu", str(out)))
    need = max(s.held_bytes + s.state_bytes for s in one.stages)
    monkeypatch.setattr(planning, "available_bytes", lambda: int(need * 1.5))  # room for one copy, not two
    planning.check_fits(one)
    assert main(["reproduce", "--preset", "tiny", "--device", "cpu", "--nproc", "2", "--out", str(out)]) == 2
    assert "2 processes), this machine has" in capsys.readouterr().err
    assert not out.exists()


def test_thousands_of_seeds_are_refused_with_their_cost_unless_confirmed(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", "--preset", "tiny", "--seeds", "10000", "--device", "cpu", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--seeds 10000 is 5,000 times the tiny preset's 2 seeds" in err and "--yes" in err
    assert not out.exists()
    run = resolve("tiny", "synthetic", 20, "cpu", str(out))  # 10 x the preset's: still fine without --yes
    planning.check_seeds(run, confirmed=False)
