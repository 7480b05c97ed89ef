"""Plausible wrong answers for kata 08: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right (each tried): in 08.1, F.normalize(x, dim=-1),
x / x.pow(2).sum(-1, keepdim=True).sqrt(), x * x.norm(dim=-1, keepdim=True).reciprocal(),
torch.linalg.vector_norm; in 08.2, torch.exp(torch.clamp(t, max=...)), torch.minimum(t, max),
t.exp().clamp(max=math.exp(max_log_temperature)) (the same scale), F.normalize in place of
l2_normalize, matmul or einsum, the scale applied to the image embeddings before the product;
in 08.3, logits.t(), 0.5 * (a + b), and the two CEs written as -log_softmax(logits, dim=1 and
dim=0).diagonal().mean(); features[:, 0, :] in 08.4; self.text(tokens)[1] in 08.5; keyword
arguments to clip_logits in 08.6; in 08.7, model(images, class_tokens).argmax(-1), and the
cosines without the temperature with torch.max(...).indices (an argmax ignores a positive scale).
"""

MUTANTS = {
    "08.1": {
        "normalised over the batch (dim 0), not each vector": "return x / x.norm(dim=0, keepdim=True)",
        "forgets keepdim": "return x / x.norm(dim=-1)",
        "divides by the squared length (no square root)": "return x / x.pow(2).sum(dim=-1, keepdim=True)",
        "divides by the L1 norm (sum of |x|)": "return x / x.abs().sum(dim=-1, keepdim=True)",
        "divides by the norm of the whole tensor": "return x / x.norm()",
    },
    "08.2": {
        "embeddings not normalised": """
            scale = log_temperature.clamp(max=max_log_temperature).exp()
            return scale * image_emb @ text_emb.T
        """,
        "normalised over the batch (F.normalize with dim=0)": """
            image, text = F.normalize(image_emb, dim=0), F.normalize(text_emb, dim=0)
            return log_temperature.clamp(max=max_log_temperature).exp() * image @ text.T
        """,
        "only the images normalised": """
            scale = log_temperature.clamp(max=max_log_temperature).exp()
            return scale * l2_normalize(image_emb) @ text_emb.T
        """,
        "temperature as a divisor": """
            image, text = l2_normalize(image_emb), l2_normalize(text_emb)
            return image @ text.T / log_temperature.clamp(max=max_log_temperature).exp()
        """,
        "temperature with the wrong sign: exp(-t)": """
            image, text = l2_normalize(image_emb), l2_normalize(text_emb)
            return (-log_temperature).clamp(max=max_log_temperature).exp() * image @ text.T
        """,
        "exp forgotten: multiplies by t itself": """
            image, text = l2_normalize(image_emb), l2_normalize(text_emb)
            return log_temperature.clamp(max=max_log_temperature) * image @ text.T
        """,
        "not clamped": """
            image, text = l2_normalize(image_emb), l2_normalize(text_emb)
            return log_temperature.exp() * image @ text.T
        """,
        "clamped from below (min=), not from above": """
            image, text = l2_normalize(image_emb), l2_normalize(text_emb)
            return log_temperature.clamp(min=max_log_temperature).exp() * image @ text.T
        """,
        "exp(t) clamped at log(100), not t": """
            image, text = l2_normalize(image_emb), l2_normalize(text_emb)
            return log_temperature.exp().clamp(max=max_log_temperature) * image @ text.T
        """,
        "the clamp hard-coded at 100": """
            image, text = l2_normalize(image_emb), l2_normalize(text_emb)
            return log_temperature.clamp(max=math.log(100)).exp() * image @ text.T
        """,
    },
    "08.3": {
        "one-sided: the rows (images) only": """
            targets = torch.arange(logits.shape[0])
            return F.cross_entropy(logits, targets)
        """,
        "one-sided: the columns (texts) only": """
            targets = torch.arange(logits.shape[0])
            return F.cross_entropy(logits.T, targets)
        """,
        "targets all 0, not the identity": """
            targets = torch.zeros(logits.shape[0], dtype=torch.long)
            return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
        """,
        "the sum of the two cross-entropies, not their mean": """
            targets = torch.arange(logits.shape[0])
            return F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)
        """,
        "summed over the batch, not averaged": """
            targets = torch.arange(logits.shape[0])
            rows = F.cross_entropy(logits, targets, reduction="sum")
            return (rows + F.cross_entropy(logits.T, targets, reduction="sum")) / 2
        """,
        "no log-softmax: nll_loss of the raw logits": """
            targets = torch.arange(logits.shape[0])
            return (F.nll_loss(logits, targets) + F.nll_loss(logits.T, targets)) / 2
        """,
    },
    "08.4": {
        "the mean of all tokens": "return self.image_proj(self.vision.features(images).mean(dim=1))",
        "the last token": "return self.image_proj(self.vision.features(images)[:, -1])",
        "the first patch token (place 1)": "return self.image_proj(self.vision.features(images)[:, 1])",
        "not projected": "return self.vision.features(images)[:, 0]",
        "the ViT's class logits, not its class token": "return self.image_proj(self.vision(images))",
        "normalised here (clip_logits does that)": (
            "return l2_normalize(self.image_proj(self.vision.features(images)[:, 0]))"
        ),
    },
    "08.5": {
        "features[:, 0] instead of the pooled vector": """
            features, _ = self.text(tokens)
            return self.text_proj(features[:, 0])
        """,
        "the mean over every token, padding included": """
            features, _ = self.text(tokens)
            return self.text_proj(features.mean(dim=1))
        """,
        "projects every token's features": """
            features, _ = self.text(tokens)
            return self.text_proj(features)
        """,
        "not projected": """
            _, pooled = self.text(tokens)
            return pooled
        """,
        "the image projection used for the text": """
            _, pooled = self.text(tokens)
            return self.image_proj(pooled)
        """,
    },
    "08.6": {
        "texts as rows, images as columns: logits transposed": (
            "return clip_logits(self.encode_text(tokens), self.encode_image(images), self.log_temperature)"
        ),
        "passes exp(t): exp taken twice": (
            "return clip_logits(self.encode_image(images), self.encode_text(tokens), self.log_temperature.exp())"
        ),
        "temperature detached: it never learns": (
            "return clip_logits(self.encode_image(images), self.encode_text(tokens), self.log_temperature.detach())"
        ),
        "the same tower twice: images against images": (
            "return clip_logits(self.encode_image(images), self.encode_image(images), self.log_temperature)"
        ),
    },
    "08.7": {
        "argmax over the images (dim 0), not the prompts": """
            image_emb = model.encode_image(images)
            text_emb = model.encode_text(class_tokens)
            return clip_logits(image_emb, text_emb, model.log_temperature).argmax(dim=0)
        """,
        "argmin: the worst-matching prompt": """
            image_emb = model.encode_image(images)
            text_emb = model.encode_text(class_tokens)
            return clip_logits(image_emb, text_emb, model.log_temperature).argmin(dim=-1)
        """,
        "raw dot products: the longest prompt embedding wins": """
            image_emb = model.encode_image(images)
            text_emb = model.encode_text(class_tokens)
            return (image_emb @ text_emb.T).argmax(dim=-1)
        """,
        "returns the best score, not the class": """
            image_emb = model.encode_image(images)
            text_emb = model.encode_text(class_tokens)
            return clip_logits(image_emb, text_emb, model.log_temperature).max(dim=-1).values
        """,
        "returns the probabilities, not the class": """
            image_emb = model.encode_image(images)
            text_emb = model.encode_text(class_tokens)
            return clip_logits(image_emb, text_emb, model.log_temperature).softmax(dim=-1)
        """,
        "prompts embedded as images are: the wrong tower": """
            image_emb = model.encode_image(images)
            text_emb = model.encode_image(class_tokens)
            return clip_logits(image_emb, text_emb, model.log_temperature).argmax(dim=-1)
        """,
    },
}
