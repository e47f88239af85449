"""One training step of TRL's own DPO, KTO and (experimental) ORPO trainers on an exported dataset, with a tiny random model and
the bundled tokenizer (offline, ~10 s): the proof that the layouts are what the trainers read."""
import copy

from refinery.tokenize import DEFAULT_TOKENIZER

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def _tiny():
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_file=str(DEFAULT_TOKENIZER), eos_token="<|im_end|>",
                                  pad_token="<|im_end|>", bos_token="<|im_start|>")
    tok.chat_template = CHATML  # SmolLM2's ChatML
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=1024))
    return tok, model


def train_one_step(kind: str, dataset, out_dir) -> float:
    """kind: "dpo", "kto" or "orpo"; returns the training loss of one step."""
    from trl import DPOConfig, DPOTrainer, KTOConfig, KTOTrainer
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    tok, model = _tiny()
    config, trainer = {"dpo": (DPOConfig, DPOTrainer), "kto": (KTOConfig, KTOTrainer),
                       "orpo": (ORPOConfig, ORPOTrainer)}[kind]
    args = config(output_dir=str(out_dir), max_steps=1, per_device_train_batch_size=2, report_to=[], use_cpu=True,
                  save_strategy="no")
    # ref_model given: TRL would otherwise reload the policy by its (empty) hub name; ORPO has none
    ref = {} if kind == "orpo" else {"ref_model": copy.deepcopy(model)}
    return trainer(model=model, args=args, train_dataset=dataset, processing_class=tok, **ref).train().training_loss
