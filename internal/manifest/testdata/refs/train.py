from transformers import AutoModelForCausalLM, AutoTokenizer
from huggingface_hub import hf_hub_download, snapshot_download
from datasets import load_dataset

# model = AutoModelForCausalLM.from_pretrained("evil/commented-out")
model = AutoModelForCausalLM.from_pretrained(
    "meta-llama/Llama-3.1-8B",
    revision="0e9e39f249a16976918f6564b8830bc894c89659",
    torch_dtype="auto",
)
tok = AutoTokenizer.from_pretrained('meta-llama/Llama-3.1-8B')
path = hf_hub_download(repo_id="TheBloke/Llama-2-7B-GGUF", filename="llama-2-7b.Q4_K_M.gguf")
snapshot_download("org/data-repo", repo_type="dataset")
ds = load_dataset("tatsu-lab/alpaca", split="train")
local = AutoModelForCausalLM.from_pretrained("./checkpoints/run1")
name = f"{org}/model"
other = AutoModelForCausalLM.from_pretrained(name)
doc = """from_pretrained("not/a-call")"""
