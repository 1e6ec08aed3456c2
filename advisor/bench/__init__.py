"""`advisor bench`: Celery and Crossbar run for real, side by side, through experiments that show what the rules claim.

Needs the `advisor[engines]` extra (celery, autobahn, mirakuru, psutil), redis-server and a
crossbar executable; nothing here is imported by the advice commands.
"""
