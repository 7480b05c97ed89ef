"""Plausible wrong answers for kata 14: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right: in 14.1, torch.randint(T, (batch_size,), generator=generator)
(low defaults to 0), (torch.rand(batch_size, generator=generator) * T).long() (floor of a uniform
float in [0, T)), or torch.multinomial(torch.ones(T), batch_size, replacement=True,
generator=generator); in 14.2, F.mse_loss(noise, eps) (the squared error is symmetric),
((eps - noise) ** 2).mean(), x_t written out with extract, or the model called with keywords
(context=context, context_mask=context_mask); in 14.3, averaged.mul_(self.decay).add_(current,
alpha=1 - self.decay), averaged.copy_(self.decay * averaged + (1 - self.decay) * current), or
averaged.data = ... of the same; in 14.4, clip_grad_norm_ given list(model.parameters()) or
optimizer.param_groups' params, or `if ema:` for the EMA check, or an extra
optimizer.zero_grad() after the step. (A forgotten optimizer.zero_grad() is not a mutant: that
line is given before the blank; the training-step test runs two steps against a step written
out with fresh gradients each, so it would fail without it.)
"""

MUTANTS = {
    "14.1": {
        "timesteps in [1, T] (the paper's 1-based t)": (
            "return torch.randint(1, T + 1, (batch_size,), generator=generator)"
        ),
        "randint(0, T − 1): high is already excluded, t = T − 1 never drawn": (
            "return torch.randint(0, T - 1, (batch_size,), generator=generator)"
        ),
        "float timesteps, not long": "return torch.rand(batch_size, generator=generator) * T",
        "rounds a uniform float: 0 and T − 1 half as likely": (
            "return (torch.rand(batch_size, generator=generator) * (T - 1)).round().long()"
        ),
        "one timestep for the whole batch": "return torch.randint(0, T, (1,), generator=generator).expand(batch_size)",
        "ignores the generator": "return torch.randint(0, T, (batch_size,))",
        "shape (B, 1), not (B,)": "return torch.randint(0, T, (batch_size, 1), generator=generator)",
    },
    "14.2": {
        "loss against x0: predicts the clean image, not the noise": """
            x_t = q_sample(x0, t, noise, schedule)
            eps = model(x_t, t, context, context_mask)
            return F.mse_loss(eps, x0)
        """,
        "noise from a fresh draw, not the one used in q_sample": """
            x_t = q_sample(x0, t, torch.randn_like(x0), schedule)
            eps = model(x_t, t, context, context_mask)
            return F.mse_loss(eps, noise)
        """,
        "the model sees the clean x0, not x_t": """
            eps = model(x0, t, context, context_mask)
            return F.mse_loss(eps, noise)
        """,
        "sum, not mean": """
            x_t = q_sample(x0, t, noise, schedule)
            eps = model(x_t, t, context, context_mask)
            return F.mse_loss(eps, noise, reduction="sum")
        """,
        "sum over each image, mean over the batch": """
            x_t = q_sample(x0, t, noise, schedule)
            eps = model(x_t, t, context, context_mask)
            return ((eps - noise) ** 2).sum(dim=(1, 2, 3)).mean()
        """,
        "L1, not squared error": """
            x_t = q_sample(x0, t, noise, schedule)
            eps = model(x_t, t, context, context_mask)
            return F.l1_loss(eps, noise)
        """,
        "the prompt not passed to the model": """
            x_t = q_sample(x0, t, noise, schedule)
            eps = model(x_t, t)
            return F.mse_loss(eps, noise)
        """,
        "1-based t given to the model (t + 1)": """
            x_t = q_sample(x0, t, noise, schedule)
            eps = model(x_t, t + 1, context, context_mask)
            return F.mse_loss(eps, noise)
        """,
        "prediction under torch.no_grad(): right loss, nothing trains": """
            x_t = q_sample(x0, t, noise, schedule)
            with torch.no_grad():
                eps = model(x_t, t, context, context_mask)
            return F.mse_loss(eps, noise)
        """,
    },
    "14.3": {
        "decay inverted: moves (decay) of the way, keeps only (1 − decay)": "averaged.lerp_(current, self.decay)",
        "copies the weights: no average": "averaged.copy_(current)",
        "lerp without the underscore: a new tensor, the average never changes": (
            "averaged = averaged.lerp(current, 1 - self.decay)"
        ),
        "forgets the (1 − decay) factor on the weights": "averaged.mul_(self.decay).add_(current)",
        "decay hard-coded to 0.999": "averaged.lerp_(current, 0.001)",
        "moves the model towards the average (arguments swapped)": "current.lerp_(averaged, 1 - self.decay)",
    },
    "14.4": {
        "no clipping": """
            loss.backward()
            optimizer.step()
            if ema is not None:
                ema.update(model)
        """,
        "clips after the optimizer step": """
            loss.backward()
            optimizer.step()
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            if ema is not None:
                ema.update(model)
        """,
        "clips before backward: nothing to clip yet": """
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            loss.backward()
            optimizer.step()
            if ema is not None:
                ema.update(model)
        """,
        "clips each value (clip_grad_value_), not the total norm": """
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), max_grad_norm)
            optimizer.step()
            if ema is not None:
                ema.update(model)
        """,
        "clips each parameter's norm on its own, not all together": """
            loss.backward()
            for p in model.parameters():
                nn.utils.clip_grad_norm_(p, max_grad_norm)
            optimizer.step()
            if ema is not None:
                ema.update(model)
        """,
        "max_grad_norm hard-coded to 1.0": """
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if ema is not None:
                ema.update(model)
        """,
        "zero_grad between backward and step: wipes the gradients": """
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.zero_grad()
            optimizer.step()
            if ema is not None:
                ema.update(model)
        """,
        "EMA updated before the step: it follows the old weights": """
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            if ema is not None:
                ema.update(model)
            optimizer.step()
        """,
        "EMA never updated": """
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
        """,
        "ema.update without the check for None": """
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
            ema.update(model)
        """,
    },
}
