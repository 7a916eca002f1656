# ruff: noqa: E501 - HTML/CSS template lines
"""Jinja2 template of the privacy report (kept in a module so it ships with the package)."""

from __future__ import annotations

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Clearhouse validation gate">
<title>Privacy report · {{ dataset }} {{ version }}</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  main { max-width: 1080px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dce3; padding-bottom: 4px; }
  section { background: #fff; border: 1px solid #e1e4ea; border-radius: 6px; padding: 12px 16px; margin-top: 12px; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef0f3; vertical-align: top; }
  th { font-weight: 600; background: #fafbfc; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
  .pass { background: #dff3e4; color: #1b6b34; } .fail { background: #fbe1e1; color: #9b1c1c; } .warn { background: #fff1d6; color: #8a5300; }
  .muted { color: #6b7280; } .verdict { font-size: 16px; margin: 8px 0; } code { font-size: 12px; }
  dl { display: grid; grid-template-columns: 160px 1fr; gap: 4px 12px; margin: 0; } dt { font-weight: 600; }
  .legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
  svg text { font: 11px system-ui, sans-serif; fill: #1d2330; }
</style>
</head>
<body>
<main>
<header>
  <h1>Privacy report — {{ dataset }} <span class="muted">version {{ version }}</span></h1>
  <p class="verdict">
    Validation gate:
    {% if outcome.passed %}<span class="badge pass">passed</span>{% else %}<span class="badge fail">failed</span>{% endif %}
    · {{ n_failed_critical }} critical failure(s) · {{ n_warnings }} warning(s) · {{ outcome.checks|length }} check(s)
  </p>
  <p class="muted">Generated {{ generated_at }}. This page shows counts, shares and category names only — never data values.</p>
</header>

<section id="overview">
  <h2>Dataset and purpose</h2>
  <dl>
    <dt>Ethics risk</dt><dd><span class="badge {{ 'fail' if risk_level in ('E3', 'E4') else 'warn' if risk_level == 'E2' else 'pass' }}">{{ risk_level }}</span> {{ risk_text }}</dd>
    <dt>Purpose</dt><dd>{{ policy.purpose }}</dd>
    {% if policy.purpose_id %}<dt>Purpose id</dt><dd><code>{{ policy.purpose_id }}</code></dd>{% endif %}
    <dt>Owner</dt><dd>{{ policy.owner }}</dd>
    <dt>Policy</dt><dd><code>{{ policy.id }}</code> · k-anonymity target {{ policy.k_anonymity or 'off' }}</dd>
    <dt>Rows</dt><dd>{% if rows_before is not none %}{{ rows_before }} in → {% endif %}{{ rows_after }} released</dd>
  </dl>
</section>

<section id="assessment">
  <h2>Privacy impact assessment</h2>
  {% if assessment %}
  <p>
    {% if gates and gates.assessment.signed %}<span class="badge pass">signed</span> {{ gates.assessment.label }}
    {% else %}<span class="badge {{ 'fail' if gates and 'assessment' in gates.requires else 'warn' }}">assessment not signed</span>
      {% if gates and gates.assessment.earlier_signoff %}<span class="muted">changed since the sign-off by {{ gates.assessment.earlier_signoff.by }} ({{ gates.assessment.earlier_signoff.at[:19] }}); a changed assessment needs a new sign-off</span>{% endif %}
    {% endif %}
  </p>
  <dl>
    <dt>Purpose</dt><dd>{{ assessment.purpose }}</dd>
    <dt>Legal basis</dt><dd><code>{{ assessment.legal_basis.value }}</code>{% if assessment.legal_basis_note %} — {{ assessment.legal_basis_note }}{% endif %}</dd>
    <dt>Sensitive data</dt><dd>{% if assessment.sensitive.categories %}{{ assessment.sensitive.categories|join(', ') }} · consent: <code>{{ assessment.sensitive.consent.value }}</code>{% if assessment.sensitive.consent_evidence %} ({{ assessment.sensitive.consent_evidence }}){% endif %}{% if assessment.sensitive.exemption %} ({{ assessment.sensitive.exemption }}){% endif %}{% else %}<span class="muted">none</span>{% endif %}</dd>
    <dt>Data subjects</dt><dd>{{ assessment.data_subjects|join('; ') }}</dd>
    <dt>Recipients</dt><dd>{{ assessment.recipients|join('; ') }}</dd>
    <dt>Retention period</dt><dd><code>{{ assessment.retention_period }}</code>{% if assessment.disposal %} — {{ assessment.disposal }}{% endif %}</dd>
    <dt>Transfers</dt><dd>{% if assessment.transfers %}{{ assessment.transfers|join('; ') }}{% else %}<span class="muted">none</span>{% endif %}</dd>
    <dt>Digest</dt><dd><code>{{ gates.assessment.digest if gates else '' }}</code> <span class="muted">(SHA-256 of the assessment's canonical JSON: what a sign-off signs)</span></dd>
  </dl>
  {% else %}<p class="muted">No assessment (an E0 policy may go without).</p>{% endif %}
</section>

<section id="review">
  <h2>Officer's gates and residual-PII review</h2>
  {% if gates %}
  <p>Release requires: {% for g in gates.requires %}{{ gate_labels[g] }}{% if not loop.last %}, {% endif %}{% else %}<span class="muted">no officer's gate (released when every check passes)</span>{% endfor %}.
    {% if gates.outstanding %}<span class="badge warn">waiting for {% for g in gates.outstanding %}{{ gate_labels[g] }}{% if not loop.last %}, {% endif %}{% endfor %}</span>{% endif %}
    {% if gates.approved_by %}Approved by {{ gates.approved_by }}.{% endif %}</p>
  {% if gates.review.plan %}
  <table>
    <tr><th>limit (max_residual_rate)</th><td class="num">{{ pct2(gates.review.plan.max_residual_rate) }}</td></tr>
    <tr><th>confidence</th><td class="num">{{ pct(gates.review.plan.confidence) }} one-sided, exact binomial (Clopper-Pearson) upper bound</td></tr>
    <tr><th>sample size needed</th><td class="num">{{ gates.review.plan.sample_size }} records with no leak</td></tr>
    <tr><th>columns read</th><td>{{ gates.review.plan.columns|join(', ') }}</td></tr>
    {% if gates.review.sample %}<tr><th>sample</th><td>{{ gates.review.sample.n }} of {{ gates.review.sample.population }} records drawn by {{ gates.review.sample.by }} ({{ gates.review.sample.at[:19] }}), seed <code>{{ gates.review.sample.seed }}</code></td></tr>{% endif %}
    {% if gates.review.result %}{% set r = gates.review.result %}
    <tr><th>result</th><td>{% if r.passed %}<span class="badge pass">passed</span>{% else %}<span class="badge fail">failed</span>{% endif %}
      n = {{ r.n }}, leaks = {{ r.leaks }}, upper bound {{ pct2(r.upper_bound) }}{% if r.census %} (every record read: the observed rate){% endif %} vs limit {{ pct2(r.max_residual_rate) }};
      reviewed by {{ r.by }} ({{ r.at[:19] }}){% if r.withheld %}; {{ r.withheld }} marked record(s) withheld from the release{% endif %}</td></tr>
    {% else %}<tr><th>result</th><td><span class="badge warn">not reviewed yet</span></td></tr>{% endif %}
  </table>
  {% else %}<p class="muted">No residual-PII review required for this version.</p>{% endif %}
  {% else %}<p class="muted">not recorded</p>{% endif %}
</section>

<section id="findings">
  <h2>Personal data found</h2>
  {% if findings %}
  <table>
    <thead><tr><th>Column</th><th>Kind</th><th class="num">Rows scanned</th><th class="num">Rows with PII</th><th>Entity types (count, mean score)</th><th>Classified as</th></tr></thead>
    <tbody>
    {% for f in findings %}
      <tr>
        <td><code>{{ f.column }}</code></td><td>{{ f.kind }}</td>
        <td class="num">{{ f.rows_scanned }}</td><td class="num">{{ f.rows_with_pii }}</td>
        <td>{% for name, e in f.entities %}{{ name }} ({{ e.count }}, {{ '%.2f'|format(e.mean_score) }}){% if not loop.last %}, {% endif %}{% else %}<span class="muted">none</span>{% endfor %}</td>
        <td>{% if f.inferred_entity %}{{ f.inferred_entity }} ({{ '%.0f'|format(100 * f.confidence) }}%){% else %}<span class="muted">—</span>{% endif %}</td>
      </tr>
    {% endfor %}
    </tbody>
  </table>
  {% else %}<p class="muted">No detection findings were recorded.</p>{% endif %}
</section>

<section id="treatments">
  <h2>Treatments applied</h2>
  <table>
    <thead><tr><th>Column</th><th>Role</th><th>Treatment</th><th>Released</th></tr></thead>
    <tbody>
    {% for t in treatments %}
      <tr><td><code>{{ t.column }}</code></td><td>{{ t.role }}</td><td><code>{{ t.treatment }}</code></td>
          <td>{% if t.released %}yes{% else %}<span class="muted">no (dropped)</span>{% endif %}</td></tr>
    {% endfor %}
    </tbody>
  </table>
</section>

<section id="risk">
  <h2>Re-identification risk</h2>
  {% if risk_checks %}
  <table>
    <thead><tr><th>Check</th><th>Severity</th><th>Result</th><th>Observed</th></tr></thead>
    <tbody>
    {% for c in risk_checks %}
      <tr><td><code>{{ c.name }}</code></td><td>{{ c.severity }}</td>
          <td>{% if c.success %}<span class="badge pass">pass</span>{% else %}<span class="badge {{ 'fail' if c.severity == 'critical' else 'warn' }}">fail</span>{% endif %}</td>
          <td>{{ c.observed.summary }}{% for r in c.reasons %}<br><span class="muted">{{ r }}</span>{% endfor %}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% else %}<p class="muted">No k-anonymity or l-diversity check in the suite (policy k_anonymity is {{ policy.k_anonymity }}).</p>{% endif %}
</section>

<section id="fairness">
  <h2>Balance and representation, before vs after</h2>
  {% if charts %}
  <p class="legend muted">Share of rows with a known value.{% if any_before %}<span style="background:#9aa5b8"></span>before (raw input){% endif %}<span style="background:#2f6fdd"></span>after (released)</p>
  {% for chart in charts %}
  <figure>
    <svg xmlns="http://www.w3.org/2000/svg" width="{{ chart.width }}" height="{{ chart.height }}" viewBox="0 0 {{ chart.width }} {{ chart.height }}" role="img" aria-label="{{ chart.title }}">
      <text x="0" y="14" style="font-weight:600">{{ chart.title }}</text>
      {% for bar in chart.bars %}
        <text x="{{ chart.label_width - 6 }}" y="{{ bar.y + chart.bar_height + 3 }}" text-anchor="end">{{ bar.label|truncate(22, true, '…') }}</text>
        {% if chart.has_before %}
        <rect x="{{ chart.label_width }}" y="{{ bar.y }}" width="{{ bar.before_width }}" height="{{ chart.bar_height }}" fill="#9aa5b8"><title>{{ bar.label }} before: {{ pct(bar.before) }}</title></rect>
        {% endif %}
        <rect x="{{ chart.label_width }}" y="{{ bar.y + chart.bar_height }}" width="{{ bar.after_width }}" height="{{ chart.bar_height }}" fill="#2f6fdd"><title>{{ bar.label }} after: {{ pct(bar.after) }}</title></rect>
        <text x="{{ chart.label_width + chart.bar_area + 6 }}" y="{{ bar.y + chart.bar_height + 3 }}">{% if chart.has_before %}{{ pct(bar.before) }} → {% endif %}{{ pct(bar.after) }}</text>
      {% endfor %}
    </svg>
  </figure>
  {% endfor %}
  {% else %}<p class="muted">No label or low-cardinality group column to summarise.</p>{% endif %}
  {% if fairness_checks %}
  <table>
    <thead><tr><th>Check</th><th>Severity</th><th>Result</th><th>Observed</th></tr></thead>
    <tbody>
    {% for c in fairness_checks %}
      <tr><td><code>{{ c.name }}</code></td><td>{{ c.severity }}</td>
          <td>{% if c.success %}<span class="badge pass">pass</span>{% else %}<span class="badge {{ 'fail' if c.severity == 'critical' else 'warn' }}">fail</span>{% endif %}</td>
          <td>{{ c.observed.summary }}{% for r in c.reasons %}<br><span class="muted">{{ r }}</span>{% endfor %}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
</section>

<section id="checks">
  <h2>All checks</h2>
  <table>
    <thead><tr><th>Check</th><th>Severity</th><th>Result</th><th>Why it failed</th></tr></thead>
    <tbody>
    {% for c in outcome.checks %}
      <tr><td><code>{{ c.name }}</code></td><td>{{ c.severity }}</td>
          <td>{% if c.success %}<span class="badge pass">pass</span>{% elif c.severity == 'critical' %}<span class="badge fail">fail</span>{% else %}<span class="badge warn">warning</span>{% endif %}</td>
          <td>{{ c.reasons|join('; ') }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
</section>

<section id="ledger">
  <h2>Governance ledger</h2>
  {% if ledger %}
  <p>Verified when this report was written:
    {% if ledger.ok %}<span class="badge pass">chain intact</span>{% else %}<span class="badge fail">broken</span>{% endif %}
    — {{ ledger.entries }} signed entries, {{ ledger.artifacts_checked }} artifacts of this version re-hashed.</p>
  <table>
    <tr><th>chain head</th><td><code>entry {{ ledger.head_seq }} · {{ ledger.head_hash }}</code></td></tr>
    <tr><th>signing key</th><td><code>{{ ledger.key_id }}</code> (Ed25519; its public key is in every release manifest)</td></tr>
  </table>
  {% if ledger.problems %}<ul>{% for p in ledger.problems %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}
  <p class="muted">Re-check at any time with <code>clearhouse verify {{ dataset }} --version {{ version }}</code>.</p>
  {% else %}<p class="muted">not recorded</p>{% endif %}
</section>

<section id="links">
  <h2>Links</h2>
  <ul>
    <li>Data Docs: {% if data_docs_href %}<a href="{{ data_docs_href }}">validation results</a>{% else %}<span class="muted">not built</span>{% endif %}</li>
    <li>Lineage: {% if lineage_href %}<a href="{{ lineage_href }}">lineage of this version</a>{% else %}<span class="muted">not linked</span>{% endif %}</li>
    <li>Suite: <code>{{ suite_path }}</code></li>
  </ul>
</section>
</main>
</body>
</html>
"""
