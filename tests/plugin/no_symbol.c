/* SPDX-License-Identifier: MIT */
/* A shared object without the portcullis_backend symbol. */
int portcullis_not_a_backend(void);

int portcullis_not_a_backend(void)
{
	return 42;
}
