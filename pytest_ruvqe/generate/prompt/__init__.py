"""Model-backed generators: what a model is told and what is made of its reply.

The target's context (:mod:`.context`), the requests built from it
(:mod:`.requests`), reply parsing (:mod:`.replies`) and the chat and scaffold
generators (:mod:`.generators`).
"""
