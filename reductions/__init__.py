"""One module per result, readable next to the paper: construction, parameters, certificate, decoder, experiment."""

#: Modules whose certificates ``barriers proofs`` checks, in the order they are reported.
RESULT_MODULES = (
    "jl",
    "thm5",
    "thm6",
    "thm8",
    "tensor",
    "alg1",
    "thm17",
    "cor16",
    "appE",
    "thm19",
    "codes",
    "cor9",
    "covering",
    "thm15",
    "knn",
    "nonuniform",
)

#: Modules that declare ``EXPERIMENTS`` (``barriers list`` and ``make figures`` use this order).
EXPERIMENT_MODULES = (
    "budget",
    "budget_limits",
    "thm6",
    "thm8",
    "jl",
    "tensor",
    "alg1",
    "thm17",
    "window_outside",
    "cor16",
    "appE",
    "thm19",
    "cor9",
    "thm15",
    "covering",
    "knn",
    "nonuniform",
)
