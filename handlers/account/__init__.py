"""A member's account: help, onboarding (invites and binding), profile, members, the roster, the
web sign-in."""
