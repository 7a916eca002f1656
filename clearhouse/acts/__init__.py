"""Acts of people on released versions, outside the clearing stages: what labelers do
(:mod:`~clearhouse.acts.labeler`; downloads in labeling formats: :mod:`~clearhouse.acts.export`), what
privacy officers do (:mod:`~clearhouse.acts.officer`) and who may do it (:mod:`~clearhouse.acts.users`).
Each act and each refusal is recorded (audit log, ledger)."""
