"""Plausible wrong answers for kata 00: each must fail the tests of its blank (the self-check runs them)."""

MUTANTS = {
    "00.1": {
        "new dimension at the end": "return image.unsqueeze(-1)",
        "new dimension in the middle": "return image.unsqueeze(1)",
        "flattens the image": "return image.reshape(1, -1)",
        "unsqueeze_ in place: changes the caller's image": "return image.unsqueeze_(0)",
    },
    "00.2": {
        "no reshape: (C,) lines up with W": "return (images - mean) / std",
        "reshape lines C up with B": """
            mean = mean.view(-1, 1, 1, 1)
            std = std.view(-1, 1, 1, 1)
            return (images - mean) / std
        """,
        "multiplies by std": """
            mean = mean.view(1, -1, 1, 1)
            std = std.view(1, -1, 1, 1)
            return (images - mean) * std
        """,
        "operator precedence: divides only the mean": """
            mean = mean.view(1, -1, 1, 1)
            std = std.view(1, -1, 1, 1)
            return images - mean / std
        """,
        "standardises in place: changes the caller's images": """
            mean = mean.view(1, -1, 1, 1)
            std = std.view(1, -1, 1, 1)
            images -= mean
            images /= std
            return images
        """,
    },
    "00.3": {
        "distance, not squared distance": "return (a[:, None, :] - b[None, :, :]).norm(dim=-1)",
        "forgets to square": "return (a[:, None, :] - b[None, :, :]).sum(dim=-1)",
        "sums over the wrong dimension": "return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=0)",
        "transposed: (M, N)": "return ((b[:, None, :] - a[None, :, :]) ** 2).sum(dim=-1)",
        "no broadcasting: pairs a[i] with b[i]": "return ((a - b) ** 2).sum(dim=-1, keepdim=True)",
    },
}
