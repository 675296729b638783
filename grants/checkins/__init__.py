"""Partnership health: with each milestone report the lead and every partner organisation
rate, separately and in confidence, how the partnership works (the call's check-in
statements); staff follow the trend per award and across the portfolio, with the funds that
reached each partner."""
