"""When Slack may be called: the rolling window of calls (in this process or shared through
Redis) and the scheduler that spends it on the messages people are watching."""
