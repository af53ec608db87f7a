/* net.c — the network core (stub: API only, implementation in progress). */
#include "net.h"

const char *const dl_cost_names[DL_COST_COUNT + 1] = {
    "quadratic", "cross_entropy", "log_likelihood", NULL
};
const char *const dl_init_names[DL_INIT_COUNT + 1] = {
    "nielsen", "scaled", "xavier", "he", "zeros", NULL
};

net_hyper net_hyper_default(void) { return (net_hyper){ 0.1f, 0.0f, 1.0f, 0.0f }; }
dl_status net_new(net **out, int L, const int *sizes, const dl_act *acts, dl_cost cost)
{ *out = NULL; return DL_EINVAL; }
void net_free(net *n) { (void)n; }
dl_status net_init(net *n, dl_init how, uint64_t seed) { return DL_EINVAL; }
dl_status net_reserve(net *n, int B) { return DL_EINVAL; }
mat net_input(net *n, int B) { return (mat){ 0 }; }
mat net_target(net *n, int B) { return (mat){ 0 }; }
dl_status net_forward(net *n, mat X) { return DL_EINVAL; }
mat net_output(const net *n) { return (mat){ 0 }; }
dl_status net_cost(net *n, mat Y, double *cost) { return DL_EINVAL; }
dl_status net_backward(net *n, mat Y) { return DL_EINVAL; }
dl_status net_labels_to_targets(net *n, mat labels, mat *Y) { return DL_EINVAL; }
dl_status net_update(net *n, const net_hyper *h) { return DL_EINVAL; }
dl_status net_step(net *n, mat X, mat Y, const net_hyper *h, double *cost) { return DL_EINVAL; }
void net_zero_grads(net *n) { (void)n; }
void net_zero_velocity(net *n) { (void)n; }
dl_status net_set_neuron_act(net *n, int l, int j, dl_act f) { return DL_EINVAL; }
dl_act net_neuron_act(const net *n, int l, int j) { return DL_SIGMOID; }
int net_count_correct(const net *n, mat labels) { return 0; }
dl_status net_predict(const net *n, mat out) { return DL_EINVAL; }
double net_weight_sumsq(const net *n) { return 0; }
dl_status net_gradcheck(net *n, mat X, mat Y, double eps, double *errW, double *errb)
{ return DL_EINVAL; }
dl_status net_cost_double(const net *n, mat X, mat Y, double *cost) { return DL_EINVAL; }
dl_status net_save(const net *n, const char *path, char *msg, size_t msglen) { return DL_EINVAL; }
dl_status net_load(net **out, const char *path, char *msg, size_t msglen)
{ *out = NULL; return DL_EINVAL; }
