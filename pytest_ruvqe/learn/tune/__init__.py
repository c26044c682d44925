"""The local model tuned on the project's accepted tests: LoRA adapters
trained with peft on the base GGUF (loaded by transformers), written as GGUF
LoRA adapters that llama.cpp serves next to the base model.

torch, transformers, peft and gguf (the ``tune`` extra) are imported only
when training or exporting; reading adapters' metadata needs none of them.
"""
