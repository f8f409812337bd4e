"""Engine benchmark: Switchyard's local models through its HTTP API next to
llama-cpp-python on the same GGUF files, threads and prompts, in one run.

Run by bench/engine/run.sh, which provides the server URL, the model files and the venv
with llama_cpp. Prints a table and writes JSON. Standard library only, apart from
llama_cpp.
"""

import argparse
import base64
import concurrent.futures
import json
import os
import statistics
import struct
import sys
import time
import urllib.request

WORDS = (
    "river mountain quiet lantern harbor orchard meadow copper violin glacier "
    "compass thunder velvet canyon saffron marble falcon prairie ember tide"
).split()


def prose(tokens_wanted, nonce):
    """A prompt of roughly `tokens_wanted` tokens (about 1.3 tokens a word), distinct
    from its first words on, so no engine can reuse an earlier prompt's cache."""
    words = [f"Session {nonce}."]
    words += [WORDS[(i * 7 + nonce) % len(WORDS)] for i in range(int(tokens_wanted / 1.3))]
    return " ".join(words)


def messages(nonce, prompt_tokens=200, system=None):
    text = prose(prompt_tokens, nonce)
    system = system if system is not None else f"Session {nonce}. You are a helpful assistant."
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "Continue this list of words: " + text},
    ]


# ---- Switchyard over HTTP ------------------------------------------------------------


def stream_chat(url, model, msgs, max_tokens, ban):
    """One streamed request; returns (ttft_s, total_s, prompt_tokens, completion_tokens,
    first_token_at, ended_at, token_times), times on the perf_counter clock."""
    body = {
        "model": model,
        "messages": msgs,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
        "logit_bias": {str(token): -100 for token in ban},
    }
    request = urllib.request.Request(
        f"{url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    started = time.perf_counter()
    first = None
    usage = None
    token_times = []
    with urllib.request.urlopen(request, timeout=600) as response:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise RuntimeError(chunk["error"]["message"])
            if chunk.get("usage"):
                usage = chunk["usage"]
            for choice in chunk.get("choices", []):
                if choice["delta"].get("content"):
                    token_times.append(time.perf_counter())
                    if first is None:
                        first = token_times[0]
    ended = time.perf_counter()
    return (first - started, ended - started, usage["prompt_tokens"], usage["completion_tokens"],
            first, ended, token_times)


def switchyard_round(url, model, ban, round_, decode_tokens):
    ttft, total, prompt, completion, _, _, _ = stream_chat(
        url, model, messages(1000 + round_), decode_tokens, ban
    )
    return {
        "prompt_tokens": prompt,
        "prompt_tps": prompt / ttft,
        "decode_tps": (completion - 1) / (total - ttft),
    }


def switchyard_concurrent(url, model, ban, streams, tokens_each):
    """Decode tokens/s of `streams` concurrent requests together, in the window where all
    of them decode: from the last stream's first token to the first stream's last token.
    Requests arrive a few milliseconds apart, so without the window the prompt processing
    of late arrivals would count as decode time."""
    with concurrent.futures.ThreadPoolExecutor(streams) as pool:
        futures = [
            pool.submit(stream_chat, url, model, messages(5000 + streams * 100 + i, 40), tokens_each, ban)
            for i in range(streams)
        ]
        results = [future.result() for future in futures]
    start = max(result[4] for result in results)
    end = min(result[6][-1] for result in results)
    inside = sum(1 for result in results for at in result[6] if start < at <= end)
    return inside / (end - start)


def switchyard_prefix(url, model, ban):
    system = "You are a careful assistant. " + prose(500, 77)
    first = stream_chat(url, model, [{"role": "system", "content": system},
                                     {"role": "user", "content": "First: name a river."}], 2, ban)
    second = stream_chat(url, model, [{"role": "system", "content": system},
                                      {"role": "user", "content": "Second: name a mountain."}], 2, ban)
    return first[0], second[0], first[2]


def embeddings_rate(url, model, batch, rounds):
    sentences = [f"A short sentence number {i} about the {WORDS[i % len(WORDS)]}." for i in range(batch)]
    # base64, as the official OpenAI SDK asks for by default: the vectors arrive as bytes
    # rather than 24k decimal numbers for the client to parse.
    body = json.dumps({"model": model, "input": sentences, "encoding_format": "base64"}).encode()
    timings = []
    for round_ in range(rounds + 2):
        request = urllib.request.Request(
            f"{url}/v1/embeddings", data=body, headers={"content-type": "application/json"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            data = json.load(response)["data"]
            vectors = [struct.unpack("<384f", base64.b64decode(item["embedding"])) for item in data]
        if round_ >= 2:  # two warm-up rounds
            timings.append(time.perf_counter() - started)
        assert len(vectors) == batch
    return batch / statistics.median(timings)


# ---- llama-cpp-python ----------------------------------------------------------------


def llama_cpp_load(path, threads):
    import llama_cpp

    started = time.perf_counter()
    llm = llama_cpp.Llama(
        model_path=path, n_ctx=4096, n_batch=512, n_ubatch=512, n_threads=threads,
        n_threads_batch=threads, verbose=False,
    )
    return llm, time.perf_counter() - started


def llama_cpp_round(llm, ban, round_, decode_tokens):
    llm.reset()
    msgs = messages(1000 + round_)
    started = time.perf_counter()
    first = None
    completion = 0
    for chunk in llm.create_chat_completion(
        messages=msgs, max_tokens=decode_tokens, temperature=0, stream=True,
        logit_bias={token: -100.0 for token in ban},
    ):
        delta = chunk["choices"][0]["delta"] if chunk["choices"] else {}
        if delta.get("content"):
            completion += 1
            if first is None:
                first = time.perf_counter()
    ended = time.perf_counter()
    prompt_tokens = llm.n_tokens - completion
    return {
        "prompt_tokens": prompt_tokens,
        "prompt_tps": prompt_tokens / (first - started),
        "decode_tps": (completion - 1) / (ended - first),
    }


def median(results, key):
    return statistics.median(result[key] for result in results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--models", required=True, help="JSON: [{name, path, ban}]")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--decode-tokens", type=int, default=128)
    parser.add_argument("--out", required=True)
    parser.add_argument("--startup-seconds", type=float, help="serve start to listening, models loaded")
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--model-bytes", type=int, required=True, help="all installed model files")
    args = parser.parse_args()
    models = json.loads(args.models)
    report = {"threads": args.threads, "rounds": args.rounds, "models": {}}

    for model in models:
        name, path, ban = model["name"], model["path"], model["ban"]
        print(f"{name}: llama-cpp-python and switchyard, round by round ...", file=sys.stderr)
        llm, load_s = llama_cpp_load(path, args.threads)
        # Rounds alternate between the engines, so both see the machine in the same state:
        # this machine's vCPUs change speed by tens of percent over seconds.
        reference, ours = [], []
        for round_ in range(args.rounds):
            reference.append(llama_cpp_round(llm, ban, round_, args.decode_tokens))
            time.sleep(0.2)
            ours.append(switchyard_round(args.url, name, ban, round_, args.decode_tokens))
            time.sleep(0.2)
        del llm
        entry = {
            "llama_cpp_python": {"load_s": load_s, "runs": reference},
            "switchyard": {"runs": ours},
        }
        if model.get("concurrency"):
            one = switchyard_concurrent(args.url, name, ban, 1, 64)
            entry["switchyard"]["aggregate_decode_tps"] = {
                "1": one,
                "4": switchyard_concurrent(args.url, name, ban, 4, 64),
                "8": switchyard_concurrent(args.url, name, ban, 8, 64),
            }
            first, second, prompt_tokens = switchyard_prefix(args.url, name, ban)
            entry["switchyard"]["prefix"] = {
                "prompt_tokens": prompt_tokens, "ttft_first_s": first, "ttft_second_s": second,
            }
        report["models"][name] = entry

    report["embeddings_sentences_per_s"] = embeddings_rate(args.url, "all-minilm-l6-v2", 64, 20)
    status = open(f"/proc/{args.server_pid}/status").read()
    memory = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
              if line.startswith(("VmRSS", "VmHWM"))}
    report["startup"] = {
        "seconds": args.startup_seconds,
        "rss_mib": memory["VmRSS"] / 1024,
        "peak_rss_mib": memory["VmHWM"] / 1024,
        "model_bytes": args.model_bytes,
    }

    with open(args.out, "w") as out:
        json.dump(report, out, indent=2)

    print()
    print(f"Engine benchmark: {args.threads} threads, {args.rounds} alternating rounds "
          f"(medians; ratio = median of per-round ratios), ~200-token prompt, "
          f"{args.decode_tokens} greedy tokens (EOS banned)")
    print(f"{'model':24} {'metric':12} {'switchyard':>12} {'llama.cpp':>12} {'ratio':>7}  target")
    for name, entry in report["models"].items():
        for key, label in (("prompt_tps", "prompt tok/s"), ("decode_tps", "decode tok/s")):
            ours = median(entry["switchyard"]["runs"], key)
            ref = median(entry["llama_cpp_python"]["runs"], key)
            # The median of the per-round ratios: each compares runs seconds apart.
            ratio = statistics.median(
                mine[key] / theirs[key]
                for mine, theirs in zip(entry["switchyard"]["runs"], entry["llama_cpp_python"]["runs"])
            )
            print(f"{name:24} {label:12} {ours:12.1f} {ref:12.1f} {ratio:6.2f}x  >= 1.0x "
                  f"{'PASS' if ratio >= 1.0 else 'FAIL'}")
        concurrency = entry["switchyard"].get("aggregate_decode_tps")
        if concurrency:
            one = concurrency["1"]
            for streams in ("4", "8"):
                ratio = concurrency[streams] / one
                target = ">= 3x" if streams == "8" else ""
                verdict = ("PASS" if ratio >= 3 else "FAIL") if streams == "8" else ""
                print(f"{name:24} {streams + ' streams':12} {concurrency[streams]:12.1f} "
                      f"{'(1: %.1f)' % one:>12} {ratio:6.2f}x  {target} {verdict}")
            prefix = entry["switchyard"]["prefix"]
            share = prefix["ttft_second_s"] / prefix["ttft_first_s"]
            print(f"{name:24} {'prefix TTFT':12} {prefix['ttft_second_s']*1000:10.0f}ms "
                  f"{prefix['ttft_first_s']*1000:10.0f}ms {share*100:5.1f}%  <= 20% "
                  f"{'PASS' if share <= 0.2 else 'FAIL'}  ({prefix['prompt_tokens']}-token prompt, 2nd vs 1st)")
    rate = report["embeddings_sentences_per_s"]
    print(f"{'all-minilm-l6-v2':24} {'sentences/s':12} {rate:12.1f} {'':>12} {'':>7}  >= 400 "
          f"{'PASS' if rate >= 400 else 'FAIL'}")
    startup = report["startup"]
    if startup["seconds"] is not None:
        print(f"start-up with all models loaded: {startup['seconds']:.2f} s (target <= 3 s) "
              f"{'PASS' if startup['seconds'] <= 3 else 'FAIL'}")
    budget = startup["model_bytes"] / 2**20 + 300
    print(f"Switchyard peak RSS (VmHWM): {startup['peak_rss_mib']:.0f} MiB; model files "
          f"{startup['model_bytes'] / 2**20:.0f} MiB + 300 MiB = {budget:.0f} MiB "
          f"{'PASS' if startup['peak_rss_mib'] <= budget else 'FAIL'}")
    print(f"JSON: {args.out}")


if __name__ == "__main__":
    main()
