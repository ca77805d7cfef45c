from handlers.core.registry import Feature

feature = Feature("votes", order=("vote_open", "vote", "vote_close", "votes"))
