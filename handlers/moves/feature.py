from handlers.core.registry import Feature

feature = Feature(
    "moves",
    order=(
        "transfer",
        "transfers",
        "transfer_out",
        "transfer_in",
        "depart",
        "graduate",
    ),
)
