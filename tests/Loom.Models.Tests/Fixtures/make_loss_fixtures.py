#!/usr/bin/python3
# Makes losses.safetensors: the DPO and distillation losses and their gradients with respect to the
# policy's / student's logits, computed by PyTorch autograd.
#  - DPO (Rafailov et al. 2023, eq. 7), as TRL's DPOTrainer: sequence log-probs = sum of
#    log_softmax(logits)[label] over positions whose label != -100 (get_batch_logps, labels already
#    aligned with the logits here); loss = -logsigmoid(beta * ((pc - rc) - (pr - rr))).mean();
#    rewards = beta * (policy - reference); accuracy = mean(chosen_reward > rejected_reward).
#  - Distillation (Hinton et al. 2015): alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y),
#    both averaged over the positions whose target != -100.
# Run: /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_loss_fixtures.py
import os, sys
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from fixture_io import save_safetensors  # noqa: E402

torch.manual_seed(99)
out = {}

# ---- DPO ----
B, T, V, BETA = 3, 5, 11, 0.1
chosen_logits = (torch.randn(B * T, V) * 2).requires_grad_()
rejected_logits = (torch.randn(B * T, V) * 2).requires_grad_()
chosen_labels = torch.randint(0, V, (B * T,))
rejected_labels = torch.randint(0, V, (B * T,))
for b, prompt in enumerate([2, 1, 3]):                  # prompt positions carry no label
    chosen_labels[b * T: b * T + prompt] = -100
    rejected_labels[b * T: b * T + prompt] = -100
rejected_labels[2 * T + 4] = -100                       # padding at the end of one rejected answer
ref_chosen = torch.randn(B) - 8
ref_rejected = torch.randn(B) - 8


def seq_logps(logits, labels):
    lp = logits.log_softmax(-1)
    mask = labels != -100
    picked = lp.gather(1, labels.clamp(min=0).unsqueeze(1)).squeeze(1) * mask
    return picked.view(B, T).sum(1)


pc, pr = seq_logps(chosen_logits, chosen_labels), seq_logps(rejected_logits, rejected_labels)
z = BETA * ((pc - ref_chosen) - (pr - ref_rejected))
loss = -F.logsigmoid(z).mean()
loss.backward()
rc, rr = BETA * (pc - ref_chosen), BETA * (pr - ref_rejected)
out.update({
    "dpo.chosen_logits": chosen_logits.detach(), "dpo.rejected_logits": rejected_logits.detach(),
    "dpo.chosen_labels": chosen_labels.to(torch.int32), "dpo.rejected_labels": rejected_labels.to(torch.int32),
    "dpo.ref_chosen": ref_chosen, "dpo.ref_rejected": ref_rejected,
    "dpo.policy_chosen": pc.detach(), "dpo.policy_rejected": pr.detach(),
    "dpo.loss": loss.detach().reshape(1),
    "dpo.chosen_grad": chosen_logits.grad, "dpo.rejected_grad": rejected_logits.grad,
    "dpo.stats": torch.stack([rc.mean(), rr.mean(), (rc - rr).mean(), (rc > rr).float().mean()]).detach(),
})

# ---- Distillation ----
N, V2, ALPHA, TEMP = 6, 13, 0.7, 2.0
student = (torch.randn(N, V2) * 3).requires_grad_()
teacher = torch.randn(N, V2) * 3
targets = torch.randint(0, V2, (N,))
targets[4] = -100
m = targets != -100
kl = F.kl_div(F.log_softmax(student[m] / TEMP, -1), F.softmax(teacher[m] / TEMP, -1), reduction="sum") / m.sum()
ce = F.cross_entropy(student, targets, ignore_index=-100)
dloss = ALPHA * TEMP * TEMP * kl + (1 - ALPHA) * ce
dloss.backward()
out.update({
    "distill.student": student.detach(), "distill.teacher": teacher, "distill.targets": targets.to(torch.int32),
    "distill.loss": dloss.detach().reshape(1), "distill.grad": student.grad,
})
save_safetensors(out, os.path.join(here, "losses.safetensors"), {"torch": torch.__version__, "beta": str(BETA), "alpha": str(ALPHA), "temperature": str(TEMP)})
print("dpo", loss.item(), "distill", dloss.item())
