"""The privacy officer's assessment and review commands: ``assessment show|sign``, ``review sample|submit``.

``review sample`` is the one command that prints cleared text, and only to an officer. The acts need an
officer's token (``CLEARHOUSE_TOKEN`` or ``--token-file``); refusals exit 1 and are recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clearhouse.acts import assessment as assessment_acts
from clearhouse.acts import review as review_acts
from clearhouse.catalog import Catalog
from clearhouse.cli._common import EXIT_REFUSED, JsonOption, TokenFileOption, acting, out, print_json, settings
from clearhouse.errors import NotFoundError
from clearhouse.governance.gates import LABELS, assessment_status
from clearhouse.policy import Assessment, Policy, load_policy

assessment_app = typer.Typer(help="the privacy impact assessment: show, sign (officer)", no_args_is_help=True)
review_app = typer.Typer(help="residual-PII review by sampling: sample, submit (officer)", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    assessment_app.command("show", help="show a policy's or dataset's assessment, its digest and sign-off")(show)
    assessment_app.command("sign", help="sign off a dataset's current assessment (privacy officer; recorded)")(sign)
    review_app.command("sample", help="the sample size needed and the records to review (privacy officer)")(sample)
    review_app.command("submit", help="record the sampled records that still show personal data (officer)")(submit)
    app.add_typer(assessment_app, name="assessment")
    app.add_typer(review_app, name="review")


def _print_assessment(a: Assessment) -> None:
    s = a.sensitive
    sensitive = "none"
    if s.categories:
        sensitive = f"{', '.join(s.categories)} (consent: {s.consent.value}"
        sensitive += f"; {s.consent_evidence or s.exemption})" if (s.consent_evidence or s.exemption) else ")"
    note = f" - {a.legal_basis_note}" if a.legal_basis_note else ""
    out(f"purpose        {a.purpose}")
    out(f"legal basis    {a.legal_basis.value}{note}")
    out(f"sensitive      {sensitive}")
    out(f"data subjects  {'; '.join(a.data_subjects)}")
    out(f"recipients     {'; '.join(a.recipients)}")
    out(f"retention      {a.retention_period}" + (f" - {a.disposal}" if a.disposal else ""))
    out(f"transfers      {'; '.join(a.transfers) or 'none'}")


def show(
    target: Annotated[str, typer.Argument(help="a policy file, or a registered dataset id")],
    json: JsonOption = False,
) -> None:
    s = settings()
    path = Path(target)
    if path.suffix in {".yaml", ".yml"} or path.is_file():
        policy: Policy = load_policy(path)
        try:
            Catalog(s.db_url).require_dataset(policy.id)
            status = assessment_status(s, policy.id, policy.assessment_digest())
        except NotFoundError:  # a policy that never ran: nothing can have been signed yet
            status = None
        dataset, source = policy.id, path
    else:
        current = assessment_acts.current(s, target)
        policy, status, dataset, source = current.policy, current.status, current.dataset, current.policy_path
    label = status.label() if status else "assessment not signed (the dataset has not run yet)"
    if json:
        print_json(
            {
                "dataset": dataset,
                "policy": str(source),
                "ethics_risk": policy.ethics_risk.value,
                "assessment": policy.assessment.model_dump(mode="json") if policy.assessment else None,
                "digest": policy.assessment_digest(),
                "signed": bool(status and status.signed),
                "signoff": status.signoff.to_dict() if status and status.signoff else None,
                "label": label,
            }
        )
        return
    out(f"dataset        {dataset} ({policy.ethics_risk.value})")
    out(f"policy         {source}")
    if policy.assessment is None:
        out("assessment     none (an E0 policy may go without)")
        return
    digest = policy.assessment.digest()
    out(f"digest         {digest}")
    out(f"status         {label}")
    _print_assessment(policy.assessment)
    if not (status and status.signed):
        out(f"sign with      clearhouse assessment sign {dataset} --digest {digest[:16]}   (privacy officer)")


def sign(
    dataset: str,
    note: Annotated[str, typer.Option(help="a note kept with the sign-off")] = "",
    digest: Annotated[
        str | None, typer.Option(help="the digest you read (a prefix); refused if the assessment changed since")
    ] = None,
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    actor = acting(s, token_file, "officer", act="assessment sign")
    before = assessment_acts.current(s, dataset).status.signoff
    signoff = assessment_acts.sign(s, dataset, actor=actor, note=note, expect_digest=digest)
    if json:
        print_json({"dataset": dataset, "new": before is None, **signoff.to_dict()})
        return
    if before is not None:
        out(f"the assessment of {dataset} ({signoff.digest[:16]}) is already signed by {signoff.by} at {signoff.at}")
    else:
        out(
            f"signed the assessment of {dataset} ({signoff.digest[:16]}) as {signoff.by}; "
            f"recorded in the ledger (entry {signoff.seq})"
        )


def sample(dataset: str, version: str, json: JsonOption = False, token_file: TokenFileOption = None) -> None:
    s = settings()
    drawn = review_acts.sample(s, dataset, version, actor=acting(s, token_file, "officer", act="review sample"))
    if json:
        print_json(drawn.to_dict())
        return
    out(
        f"sample size needed  {drawn.sample_size} records with no leak prove a leak rate of at most "
        f"{drawn.max_residual_rate:.2%} (exact binomial, one-sided {drawn.confidence:.0%} upper bound)"
    )
    whole = " (every record with text: the rate is observed, not estimated)" if drawn.n >= drawn.population else ""
    out(f"drawn               {drawn.n} of {drawn.population} records with text{whole}; seed {drawn.seed}")
    out(f"                    by {drawn.drawn_by} at {drawn.drawn_at}; columns {', '.join(drawn.columns)}")
    out("")
    for r in drawn.records:
        out(f"[{r['ref']}]")
        for column, text in r["text"].items():
            lines = str(text if text is not None else "").splitlines() or [""]
            out(f"  {column}: {lines[0]}")
            for line in lines[1:]:
                out(f"  {' ' * len(column)}  {line}")
    out("")
    out(
        f"mark with  clearhouse review submit {dataset} {version} --leaks REF,REF,... "
        "(the [REF] of each record where personal data is still visible; --leaks none if there is none)"
    )


def submit(
    dataset: str,
    version: str,
    leaks: Annotated[
        str, typer.Option(help="comma-separated [REF]s of the sampled records still showing personal data, or none")
    ],
    note: Annotated[str, typer.Option(help="a note kept with the review")] = "",
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    actor = acting(s, token_file, "officer", act="review submit")
    marked = [] if leaks.strip().lower() == "none" else [x for x in leaks.split(",") if x.strip()]
    result = review_acts.submit(s, dataset, version, marked, actor=actor, note=note)
    if json:
        print_json({"dataset": dataset, "version": version, **result.to_dict()})
    else:
        f = result.figures
        out(f"review       {f.summary()}")
        out(f"decision     {'PASSED' if f.passed else 'FAILED'}; {dataset} {version} is now {result.state}")
        if result.withheld:
            out(f"withheld     {result.withheld} marked record(s) removed from the release")
        if result.outstanding:
            out(f"waiting for  {', '.join(LABELS[g] for g in result.outstanding)}")
    if result.state == "quarantined":
        raise typer.Exit(EXIT_REFUSED)
