"""Getting an answer in front of people: Slack's Web API, the replies an answer streams into,
and the pacing that keeps Slack calls within Slack's limits."""
